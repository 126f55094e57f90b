package helm

import (
	"strings"
	"testing"

	"github.com/callbridge/callbridge/deploy/internal/tools"
)

// spec6Secrets are the secret variables SPEC §6 names, including those of providers this build
// does not serve yet, and a generic source's (§6a): the schema refuses them before they exist.
var spec6Secrets = []string{
	"CALLBRIDGE_NETEASE_NERTC_APP_SECRET", "CALLBRIDGE_ANYRTC_SECRET", "CALLBRIDGE_TENCENT_CSS_CALLBACK_KEY",
	"CALLBRIDGE_AGORA_SECRET", "CALLBRIDGE_TENCENT_TRTC_CALLBACK_KEY", "CALLBRIDGE_VOLCENGINE_RTC_SECRET_KEY",
	"CALLBRIDGE_ALIBABA_LIVE_AUTH_KEY", "CALLBRIDGE_LIVEKIT_API_KEY", "CALLBRIDGE_LIVEKIT_API_SECRET",
	"CALLBRIDGE_WEBHOOK_STRIPE_SECRET", "CALLBRIDGE_AGORA_URL_TOKEN",
}

// TestSchemaRefusesSecretValues: a secret in values would end up in the release Secret, in
// `helm get values` and in the pod spec. Every variable `callbridge env` reads from a file as well
// must be refused in env, whatever its value.
func TestSchemaRefusesSecretValues(t *testing.T) {
	var secrets []string
	for name, v := range tools.Env(t) {
		if v.Secret {
			secrets = append(secrets, name)
		}
	}
	if len(secrets) < 8 {
		t.Fatalf("callbridge env marks only %v as secret", secrets)
	}
	for _, name := range append(secrets, spec6Secrets...) {
		_, err := tools.Template(t, nil, "env."+name+"=hunter2")
		if err == nil || !strings.Contains(err.Error(), "values don't meet the specifications of the schema") {
			t.Errorf("env.%s: helm template did not refuse it by the schema: %v", name, err)
		}
	}
	// A *_FILE variable in env would point to nothing: files come from secretFiles.
	if _, err := tools.Template(t, nil, "env.CALLBRIDGE_NATS_CREDS_FILE=/x"); err == nil {
		t.Error("env.CALLBRIDGE_NATS_CREDS_FILE accepted; it must come from secretFiles")
	}
	// Not every variable is refused: the schema would be useless if it refused everything.
	for _, ok := range []string{"env.CALLBRIDGE_NATS_USER=callbridge", "env.CALLBRIDGE_KAFKA_SASL_USERNAME=u", "env.CALLBRIDGE_ANYRTC_VERIFY=report"} {
		if _, err := tools.Template(t, nil, ok); err != nil {
			t.Errorf("--set %s refused: %v", ok, err)
		}
	}
}

// TestTemplateRefuses checks the chart's own refusals, beside the one ci/fail-*.yaml exercises.
func TestTemplateRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		sets []string
		want string
	}{
		{"hpa on the embedded broker", []string{"autoscaling.enabled=true"}, "the embedded JetStream cannot be scaled out"},
		{"replicas on the embedded broker", []string{"replicaCount=2"}, "CALLBRIDGE_NATS_URL is empty"},
		{"buffer without a sink", []string{"env.CALLBRIDGE_ACK_MODE=buffer"}, "forwards to an external sink"},
		{"kafka without brokers", []string{"env.CALLBRIDGE_SINK=kafka"}, "needs CALLBRIDGE_KAFKA_BROKERS"},
		{"unknown top-level value", []string{"replicas=2"}, "schema"},
		{"env not CALLBRIDGE_", []string{"env.LISTEN=:80"}, "schema"},
		{"stream replicas over JetStream's 5", []string{"env.CALLBRIDGE_NATS_URL=nats://nats:4222", "env.CALLBRIDGE_NATS_REPLICAS=7"}, "schema"},
		{"event types without a schema base", []string{"knative.eventTypes.enabled=true"}, "needs the schema base URL"},
		{"event types of an unknown provider", []string{"knative.eventTypes.enabled=true", "env.CALLBRIDGE_SCHEMA_BASE_URL=http://x/s", "knative.eventTypes.providers={nope}"}, `"nope" is not a built-in provider`},
		{"event types' schema base not a URL", []string{"knative.eventTypes.enabled=true", "knative.eventTypes.schemaBaseURL=schemas"}, "schema"},
		{"stream replicas as a word", []string{"env.CALLBRIDGE_NATS_URL=nats://nats:4222", "env.CALLBRIDGE_NATS_REPLICAS=three"}, "schema"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tools.Template(t, nil, c.sets...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("--set %v: want an error containing %q, got %v", c.sets, c.want, err)
			}
		})
	}
	// Scaling out is fine once a broker is configured.
	if _, err := tools.Template(t, nil, "replicaCount=3", "autoscaling.enabled=true", "env.CALLBRIDGE_NATS_URL=nats://nats:4222"); err != nil {
		t.Errorf("replicas with an external broker refused: %v", err)
	}
}
