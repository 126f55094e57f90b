// Package loadgen is `callbridge bench`: a load generator that sends correctly signed,
// distinct callbacks to a running bridge, closed or open loop, and reports requests/s, latency
// percentiles, answers by status and the CPU spent per request, its own next to the bridge's.
//
// Command is the whole of it; the command hands it a Loader, so that bench signs with the
// configuration and registry the bridge reads. It imports bridge only for the providers'
// signing settings (bridge.ProviderAuth), and nothing imports it but the command.
package loadgen
