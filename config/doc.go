// Package config reads callbridge's configuration.
//
// Configuration comes from the environment only: variables named CALLBRIDGE_*, read with
// kelseyhightower/envconfig. Secrets may instead be read from a file named by <NAME>_FILE.
//
// The contract callers rely on:
//   - Load returns a validated *Config, or an *Error whose message is exactly one line naming
//     the variable, the value and what is allowed. A secret's value never appears in an error.
//   - Per-provider variables (CALLBRIDGE_<PROVIDER>_<SECRET>, _URL_TOKEN, _VERIFY,
//     _PUBLISH_TIMEOUT, and the ones a provider declares itself, ProviderSpec.Own, checked by the
//     provider's own Check) are generated from the ProviderSpec list the caller passes, so config
//     does not know the provider registry.
//   - Vars and WriteEnv list every variable from the same struct tags Load reads, so the
//     documentation cannot drift from the code.
package config
