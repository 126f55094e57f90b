// Package normalize turns one provider callback into one CloudEvents 1.0 envelope.
//
// It is pure: a Callback (raw body, request headers, receive time) goes in, an Event comes out.
// It does no I/O and imports no other callbridge stage.
//
// Each built-in provider is one Provider value, listed in Builtins and defined in one file that holds
// everything that provider knows: its URL check, signature scheme and signature window, the body it
// expects as an answer, its event table and its mapping to the envelope, and the settings of its
// own (Provider.Settings: declared there, read and listed by config, parsed once at start-up into
// Auth.Options, and read by the provider by name). Adding a provider means one file, one testdata
// folder and one line in Builtins; the generic tests (golden, signing round trip, fuzz,
// benchmark, and the command's end to end, status, contract and property tests) iterate the
// registry and drive each entry through its own Sign and Sample.
//
// "Source" alone means the CloudEvents attribute: Event.Source, /callbridge/<provider>[/<app id>],
// where an event comes from. A "generic source" is something else: a sender the operator
// configures (CALLBRIDGE_WEBHOOK_SOURCES and CALLBRIDGE_WEBHOOK_<NAME>_*, SPEC §6a), served like
// a built-in provider by the Provider NewWebhook builds; the CloudEvents source of its events is
// /callbridge/<name>, as for any provider.
//
// A Registry is the one value that holds every provider a bridge serves: the built-ins and the
// generic sources of its configuration (NewWebhook). The command builds it once at start-up and
// hands it to every stage; there is no package-level list a stage could read instead.
//
// The contract callers rely on:
//   - Verify works on the raw bytes and returns an *AuthError, never anything else (ingest:
//     401, nothing published).
//   - Normalize parses the body once, without reflection, and never passes a number through
//     float64; it returns a *PayloadError naming the field when the body is not what the
//     provider documents, never anything else (ingest: 400, the body dead-lettered when the
//     callback was authenticated).
//   - Retries of one callback yield the same Event.ID; distinct events yield distinct IDs.
//   - An event code the table does not know is still normalised, with a generic type.
//   - Signature material (signature headers, Tencent t and sign) never reaches the Event.
package normalize
