// Package bridge wires a running callbridge: the registry built from the configuration, the
// broker connection (retried while an external broker cannot be reached yet), the buffer of
// CALLBRIDGE_ACK_MODE=buffer, the body limit fitted to the broker's message limit, tracing, and
// the HTTP server in front; and its lifecycle, from Start to a drained Stop.
//
// Contract:
//
//   - Start returns a *Bridge once it serves and, unless in buffer mode, the broker acknowledged
//     the connection; in buffer mode it returns as soon as the buffer accepts, and the broker is
//     connected behind it. On error what Start set up (the trace exporter, the buffer, the
//     server, the sink) is torn down, in reverse order, and the *Bridge is nil.
//   - The caller owns cfg (read, never written), the listener it passes (the Bridge serves and,
//     on Stop, closes it) and the logger. The Bridge owns the sink, the buffer, the server and
//     the trace exporter, and Stop releases them all.
//   - Errors: a *config.Error or a *publish.SettingError is a configuration that cannot work
//     (the command exits 2 with it); ErrStoppedWhileConnecting is a stop requested before the
//     broker was reached (nothing was accepted: a clean stop); anything else is the
//     environment's (a listener, the broker, the disk).
//
// Imports go one way: the command (cmd/callbridge) → bridge → ingest → normalize and publish.
// Broker policy (which connect errors are worth a retry, known topics, the envelope's
// overhead) is publish's; the bridge does not import a broker's client.
package bridge
