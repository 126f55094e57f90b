// Package helm checks the chart with the pinned helm: lint, render every values file of ci/,
// decode every object strictly, and check what the chart promises about the pods it makes.
package helm

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/callbridge/callbridge/deploy/internal/manifest"
	"github.com/callbridge/callbridge/deploy/internal/tools"
)

// ciValues are the values files of ci/. Those named fail-*.yaml must be refused by `helm template`.
func ciValues(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(tools.Chart, "ci", "*.yaml"))
	if err != nil || len(files) < 4 {
		t.Fatalf("ci values files: %v %v", files, err)
	}
	return files
}

func TestLintStrict(t *testing.T) {
	for _, f := range ciValues(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			// lint renders without failing on the chart's `fail` calls, so it passes also for fail-*.
			if out, err := tools.Run(t, tools.Root, "helm", "lint", "--strict", "--values", f, tools.Chart); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

func TestTemplate(t *testing.T) {
	for _, f := range ciValues(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, err := tools.Template(t, []string{f})
			if strings.HasPrefix(filepath.Base(f), "fail-") {
				if err == nil {
					t.Fatalf("helm template accepted %s, which must be refused", f)
				}
				if !strings.Contains(err.Error(), "CALLBRIDGE_NATS_URL is empty") {
					t.Fatalf("refused for another reason than the embedded broker: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			objs, err := manifest.Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, f, objs)
		})
	}
}

// checkObjects checks the workload of one render against the chart's promises.
func checkObjects(t *testing.T, valuesFile string, objs []manifest.Object) {
	t.Helper()
	raw, _ := os.ReadFile(valuesFile)
	buffer := strings.Contains(string(raw), "CALLBRIDGE_ACK_MODE: buffer")
	var pod *corev1.PodTemplateSpec
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.Kind] = true
		switch w := o.Typed.(type) {
		case *appsv1.Deployment:
			pod = &w.Spec.Template
			if buffer {
				t.Error("buffer mode rendered a Deployment")
			}
			checkVolume(t, pod, "data", func(v corev1.Volume) bool { return v.EmptyDir != nil })
		case *appsv1.StatefulSet:
			pod = &w.Spec.Template
			if !buffer {
				t.Error("broker mode rendered a StatefulSet")
			}
			if len(w.Spec.VolumeClaimTemplates) != 1 || w.Spec.VolumeClaimTemplates[0].Name != "data" {
				t.Errorf("StatefulSet claims %v, want one named data", w.Spec.VolumeClaimTemplates)
			}
			if slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == "data" }) {
				t.Error("StatefulSet pod has its own data volume besides the claim")
			}
		}
	}
	if pod == nil {
		t.Fatalf("no Deployment or StatefulSet in %v", kinds)
	}
	checkPod(t, pod)
}

func checkVolume(t *testing.T, pod *corev1.PodTemplateSpec, name string, ok func(corev1.Volume) bool) {
	t.Helper()
	for _, v := range pod.Spec.Volumes {
		if v.Name == name {
			if !ok(v) {
				t.Errorf("volume %s: unexpected source %+v", name, v.VolumeSource)
			}
			return
		}
	}
	t.Errorf("no volume %s", name)
}

func checkPod(t *testing.T, pod *corev1.PodTemplateSpec) {
	t.Helper()
	s := pod.Spec
	if s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken is not false")
	}
	psc := s.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and seccomp RuntimeDefault", psc)
	}
	if len(s.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(s.Containers))
	}
	c := s.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext %+v: want read-only root, no privilege escalation, drop ALL", sc)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Errorf("env %s comes from %+v: secrets are mounted as files", e.Name, e.ValueFrom)
		}
		env[e.Name] = e.Value
	}
	// The grace period outlasts the bridge's own shutdown, so it is never killed mid-flush.
	timeout := 30 * time.Second
	if v, ok := env["CALLBRIDGE_SHUTDOWN_TIMEOUT"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		timeout = d
	}
	if s.TerminationGracePeriodSeconds == nil || time.Duration(*s.TerminationGracePeriodSeconds)*time.Second <= timeout {
		t.Errorf("terminationGracePeriodSeconds %v is not above CALLBRIDGE_SHUTDOWN_TIMEOUT %v", s.TerminationGracePeriodSeconds, timeout)
	}
	// Probes on the server's routes and on the port the bridge listens on.
	port := "8080"
	if l, ok := env["CALLBRIDGE_LISTEN"]; ok {
		port = l[strings.LastIndex(l, ":")+1:]
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort == 0 || strconv.Itoa(int(c.Ports[0].ContainerPort)) != port {
		t.Errorf("container ports %+v, want http on %s", c.Ports, port)
	}
	for probe, want := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz", c.StartupProbe: "/healthz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want || probe.HTTPGet.Port.String() != "http" {
			t.Errorf("probe %+v, want GET %s on port http", probe, want)
		}
	}
	// Mounts: a writable /tmp, the data directory, and every *_FILE inside a mounted volume.
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	if mounts["/tmp"] != "tmp" {
		t.Error("/tmp is not the tmp emptyDir")
	}
	dataDir := env["CALLBRIDGE_DATA_DIR"]
	if dataDir == "" || mounts[dataDir] != "data" {
		t.Errorf("CALLBRIDGE_DATA_DIR %q is not where the data volume is mounted (%v)", dataDir, mounts)
	}
	for name, v := range env {
		if !strings.HasSuffix(name, "_FILE") {
			continue
		}
		if mounts[filepath.Dir(v)] != "files" {
			t.Errorf("%s=%s is not in the mounted files volume", name, v)
		}
	}
}
