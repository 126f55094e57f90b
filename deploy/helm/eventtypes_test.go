package helm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/callbridge/callbridge/deploy/internal/manifest"
	"github.com/callbridge/callbridge/deploy/internal/tools"
)

// catalogEntry is one event type of files/event-types.yaml, which the service module generates
// from the providers' declarations (go test ./cmd/callbridge -run TestContractKnativeEventTypes).
type catalogEntry struct {
	Name, Type, Schema, Description string
}

func catalog(t *testing.T) map[string]struct {
	Source     string
	EventTypes []catalogEntry `json:"eventTypes"`
} {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tools.Chart, "files", "event-types.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Providers map[string]struct {
			Source     string
			EventTypes []catalogEntry `json:"eventTypes"`
		}
	}
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Providers) < 20 {
		t.Fatalf("files/event-types.yaml lists %d providers", len(c.Providers))
	}
	return c.Providers
}

func eventTypes(t *testing.T, values []string, sets ...string) []*manifest.EventType {
	t.Helper()
	out, err := tools.Template(t, values, sets...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	var ets []*manifest.EventType
	for _, o := range objs {
		if et, ok := o.Typed.(*manifest.EventType); ok {
			ets = append(ets, et)
		}
	}
	return ets
}

// TestEventTypes: ci/knative-values.yaml renders one EventType per documented type of the
// providers it lists, each with its type, source, dataschema and the Broker it names; with no
// provider listed, every type of every provider; disabled (the default), none.
func TestEventTypes(t *testing.T) {
	cat := catalog(t)
	ets := eventTypes(t, []string{filepath.Join(tools.Chart, "ci", "knative-values.yaml")})
	want := map[string]string{} // type → provider
	for _, id := range []string{"agora", "livekit", "getstream"} {
		for _, e := range cat[id].EventTypes {
			want[e.Type] = id
		}
	}
	if len(ets) != len(want) {
		t.Errorf("%d EventTypes, want %d", len(ets), len(want))
	}
	names := map[string]bool{}
	for _, et := range ets {
		s := et.Spec
		id, ok := want[s.Type]
		switch {
		case !ok:
			t.Errorf("%s: type %q is not one of the listed providers'", et.Name, s.Type)
		case s.Source != "/callbridge/"+id:
			t.Errorf("%s: source %q", et.Name, s.Source)
		case !strings.HasPrefix(s.Schema, "https://events.example.com/callbridge/schemas/"+s.Type+"/v") || !strings.HasSuffix(s.Schema, ".json"):
			t.Errorf("%s: schema %q is not its dataschema", et.Name, s.Schema)
		case s.Description == "":
			t.Errorf("%s: no description", et.Name)
		case s.Reference == nil || *s.Reference != manifest.KReference{APIVersion: "eventing.knative.dev/v1", Kind: "Broker", Name: "rtc-events", Namespace: "events"}:
			t.Errorf("%s: reference %+v", et.Name, s.Reference)
		case names[et.Name] || len(et.Name) > 253:
			t.Errorf("%s: name twice or too long", et.Name)
		}
		names[et.Name] = true
	}
	total := 0
	for _, p := range cat {
		total += len(p.EventTypes)
	}
	all := eventTypes(t, nil, "knative.eventTypes.enabled=true", "knative.eventTypes.schemaBaseURL=http://callbridge.callbridge.svc:8080/schemas")
	if len(all) != total {
		t.Errorf("every provider: %d EventTypes, want %d", len(all), total)
	}
	if n := len(eventTypes(t, nil, "env.CALLBRIDGE_SCHEMA_BASE_URL=http://x/s")); n != 0 {
		t.Errorf("disabled: %d EventTypes", n)
	}
}
