package normalize

import (
	"strings"
	"testing"
)

func TestDataSchemasSet(t *testing.T) {
	reg := BuiltinRegistry()
	tests := []struct {
		name, base, typ, want string
	}{
		{"documented", "https://x.example/s", "com.netease.nertc.room.started", "https://x.example/s/com.netease.nertc.room.started/v1.json"},
		{"trailing slash dropped", "https://x.example/s/", "io.agora.rtc.user.left", "https://x.example/s/io.agora.rtc.user.left/v1.json"},
		{"undocumented", "http://h:8080/schemas", "io.livekit.unknown.agent_job_pending", "http://h:8080/schemas/io.livekit.unknown.agent_job_pending/v1.json"},
		{"undocumented, percent-encoded", "http://h/s", "com.netease.nertc.unknown.a/b?c#d%e", "http://h/s/com.netease.nertc.unknown.a%2Fb%3Fc%23d%25e/v1.json"},
		{"generic source", "http://h/s", "io.callbridge.webhook.shop.order-created", "http://h/s/io.callbridge.webhook.shop.order-created/v1.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			ev.Type = []byte(tt.typ)
			NewDataSchemas(tt.base, reg).Set(&ev)
			if string(ev.DataSchema) != tt.want {
				t.Errorf("dataschema %q, want %q", ev.DataSchema, tt.want)
			}
			if b := ev.AppendStructured(nil); !strings.Contains(string(b), `"dataschema":"`+tt.want+`"`) {
				t.Errorf("structured event lacks it: %s", b)
			}
			seen := ""
			ev.EachAttribute(func(name string, v []byte) {
				if name == "dataschema" {
					seen = string(v)
				}
			})
			if seen != tt.want {
				t.Errorf("binary attribute %q, want %q", seen, tt.want)
			}
		})
	}
	var ev Event
	(*DataSchemas)(nil).Set(&ev)
	if ev.DataSchema != nil || strings.Contains(string(ev.AppendStructured(nil)), "dataschema") {
		t.Errorf("a nil DataSchemas set %q", ev.DataSchema)
	}
}

// Set allocates nothing per event, for documented types and others alike, once the event's
// buffers have grown.
func TestDataSchemasSetAllocs(t *testing.T) {
	d := NewDataSchemas("http://localhost:8080/schemas", BuiltinRegistry())
	for _, typ := range []string{"com.netease.nertc.room.started", "com.netease.nertc.unknown.42"} {
		var ev Event
		typeBytes := []byte(typ)
		if n := testing.AllocsPerRun(100, func() {
			ev.Reset()
			ev.Type = typeBytes
			d.Set(&ev)
		}); n != 0 {
			t.Errorf("%s: %v allocations per event", typ, n)
		}
	}
}
