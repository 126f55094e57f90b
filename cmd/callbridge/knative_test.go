package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/normalize"
)

// The chart's Knative EventTypes (deploy/helm/callbridge/templates/eventtypes.yaml) are one per
// documented event type of each provider, read from a file of the chart made here from the
// provider declarations, the same values the bridge runs on; TestContractKnativeEventTypes fails
// when it drifts. Regenerate with
//
//	go test ./cmd/callbridge -run TestContractKnativeEventTypes -update

// chartEventTypes is that file, relative to the repository root.
const chartEventTypes = "deploy/helm/callbridge/files/event-types.yaml"

// k8sName is a DNS-1123 subdomain, what a Kubernetes object's name must be.
var k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// objectName is the part of an EventType's name its type makes: lower case, each character a
// name cannot hold a '-', each dot-separated label starting and ending with a letter or digit.
func objectName(typ string) string {
	labels := strings.Split(strings.ToLower(typ), ".")
	for i, l := range labels {
		l = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return '-'
		}, l)
		labels[i] = strings.Trim(l, "-")
	}
	return strings.Join(labels, ".")
}

// eventTypesYAML is the chart's file: by provider id, the CloudEvents source and each documented
// type with its object name, its schema below the schema base URL (at its current major) and its
// description. Strings are JSON-quoted, which YAML reads as they are.
func eventTypesYAML(t *testing.T) []byte {
	var b bytes.Buffer
	b.WriteString("# Generated from the providers' declarations by\n#   go test ./cmd/callbridge -run TestContractKnativeEventTypes -update\n" +
		"# Do not edit: templates/eventtypes.yaml makes one Knative EventType of each type listed here.\n")
	b.WriteString("providers:\n")
	names := map[string]string{}
	for _, p := range normalize.BuiltinRegistry().Publishers() {
		if p.ID == normalize.CanonicalID {
			// Canonical events keep their native event's source: the EventType names none.
			fmt.Fprintf(&b, "  %s:\n    eventTypes:\n", p.ID)
		} else {
			fmt.Fprintf(&b, "  %s:\n    source: %s\n    eventTypes:\n", p.ID, strconv.Quote("/callbridge/"+p.ID))
		}
		codes := map[string][]string{}
		var order []normalize.EventDef
		for _, e := range p.Events {
			if codes[e.Name] == nil {
				order = append(order, e)
			}
			codes[e.Name] = append(codes[e.Name], e.Code)
		}
		for _, e := range order {
			typ := p.TypePrefix + e.Name
			name := objectName(typ)
			if !k8sName.MatchString(name) || names[name] != "" {
				t.Errorf("%s: object name %q is not a Kubernetes name or is %s's too", typ, name, names[name])
			}
			names[name] = typ
			fmt.Fprintf(&b, "      - name: %s\n        type: %s\n        schema: %s\n        description: %s\n",
				strconv.Quote(name), strconv.Quote(typ), strconv.Quote(normalize.SchemaFile(typ, p.Major(e.Name))),
				strconv.Quote(knativeDescription(p, e, codes[e.Name])))
		}
	}
	return b.Bytes()
}

// TestContractKnativeEventTypes checks (with -update: rewrites) the chart's list of event types.
func TestContractKnativeEventTypes(t *testing.T) {
	want := eventTypesYAML(t)
	file := filepath.Join(repoRoot, filepath.FromSlash(chartEventTypes))
	got, err := os.ReadFile(file)
	if err == nil && bytes.Equal(got, want) {
		return
	}
	if !*update {
		t.Fatalf("%s is out of date (%v): run go test ./cmd/callbridge -run TestContractKnativeEventTypes -update", chartEventTypes, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, want, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestObjectName(t *testing.T) {
	for typ, want := range map[string]string{
		"io.getstream.call.session_participant_count_updated": "io.getstream.call.session-participant-count-updated",
		"com.Vonage.video.Archive.status":                     "com.vonage.video.archive.status",
		"io.x._a_.b/c":                                        "io.x.a.b-c",
	} {
		if got := objectName(typ); got != want || !k8sName.MatchString(got) {
			t.Errorf("objectName(%q) = %q, want %q", typ, got, want)
		}
	}
}

// knativeDescription is an EventType's description: the event's meaning and its native codes, or
// for a canonical type what it is made from.
func knativeDescription(p *normalize.Provider, e normalize.EventDef, codes []string) string {
	if p.ID == normalize.CanonicalID {
		return e.Meaning + " (canonical RTC event, made from every provider's counterpart: docs/canonical.md)"
	}
	return fmt.Sprintf("%s (%s code %s)", e.Meaning, p.ID, strings.Join(codes, ", "))
}
