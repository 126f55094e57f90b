// Package normalize turns one provider callback into one CloudEvents 1.0 envelope.
//
// It is pure: a Callback (raw body, request headers, receive time) goes in, an Event comes out.
// It does no I/O and imports no other callbridge stage.
//
// Each provider is one Provider value in the Providers table, defined in one file that holds
// everything that provider knows: its URL check, signature scheme and replay window, the body it
// expects as an answer, its event table and its mapping to the envelope, and the settings of its
// own (Provider.Settings: declared there, read and listed by config, parsed once at start-up into
// Auth.Options). Adding a provider means one file, one testdata folder and one line in Providers;
// the generic tests (golden, signing round trip, fuzz, benchmark, and the command's end to end and
// status tests) iterate Providers and drive each provider through its own Sign and Sample.
//
// The contract callers rely on:
//   - Verify works on the raw bytes and returns an *AuthError, never anything else.
//   - Normalize parses the body once, without reflection, and never passes a number through
//     float64; it returns a *PayloadError naming the field when the body is not what the
//     provider documents.
//   - Retries of one callback yield the same Event.ID; distinct events yield distinct IDs.
//   - An event code the table does not know is still normalised, with a generic type.
//   - Signature material (signature headers, Tencent t and sign) never reaches the Event.
package normalize
