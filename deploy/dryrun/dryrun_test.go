// Package dryrun applies every object deploy/ ships to a real kube-apiserver, server-side, with
// dry run and strict field validation, in namespaces that enforce the restricted Pod Security
// Standard: what a cluster would refuse, this refuses.
package dryrun

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/callbridge/callbridge/deploy/internal/apiserver"
	"github.com/callbridge/callbridge/deploy/internal/manifest"
	"github.com/callbridge/callbridge/deploy/internal/render"
	"github.com/callbridge/callbridge/deploy/internal/tools"
)

func TestDryRun(t *testing.T) {
	sets := render.All(t)
	cfg, warnings := apiserver.Start(t)
	ctx := context.Background()
	kube := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)

	v, err := kube.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver %s", v.GitVersion)
	// The chart's kubeVersion constraint holds against the server's real version.
	if !strings.HasPrefix(v.GitVersion, "v1.") {
		t.Errorf("kube-apiserver reports version %q: its version ldflags are missing", v.GitVersion)
	}
	if _, err := tools.Run(t, tools.Root, "helm", "template", "x", tools.Chart, "--kube-version", v.GitVersion); err != nil {
		t.Errorf("chart refuses kube-apiserver %s: %v", v.GitVersion, err)
	}

	installCRDs(t, ctx, cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))

	for i, set := range sets {
		t.Run(set.Name, func(t *testing.T) {
			ns := "check-" + string(rune('a'+i))
			createNamespace(t, ctx, kube, ns)
			warnings.Take()
			for _, o := range set.Objects {
				apply(t, ctx, dyn, mapper, ns, o)
				if o.Kind == "ServiceAccount" {
					// Pods are admitted only with an existing service account: create it for real.
					if _, err := dyn.Resource(corev1.SchemeGroupVersion.WithResource("serviceaccounts")).Namespace(ns).
						Patch(ctx, o.Name, types.ApplyPatchType, o.JSON, metav1.PatchOptions{FieldManager: "check", FieldValidation: "Strict"}); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, o := range set.Objects {
				if pod := podOf(o); pod != nil {
					// Pod Security is enforced on pods; a workload only gets warnings. Admit the
					// pod each workload would create.
					if _, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err != nil {
						t.Errorf("%s: its pod: %v", o, err)
					}
				}
			}
			for _, w := range warnings.Take() {
				t.Errorf("apiserver warning: %s", w)
			}
		})
	}
}

func createNamespace(t *testing.T, ctx context.Context, kube *kubernetes.Clientset, name string) {
	t.Helper()
	restricted := map[string]string{}
	for _, mode := range []string{"enforce", "warn", "audit"} {
		restricted["pod-security.kubernetes.io/"+mode] = "restricted"
		restricted["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: restricted}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// No controller-manager runs here to create the default service account pods fall back to.
	if _, err := kube.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func apply(t *testing.T, ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, ns string, o manifest.Object) {
	t.Helper()
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapper.RESTMapping(gv.WithKind(o.Kind).GroupKind(), gv.Version)
	if err != nil {
		t.Errorf("%s: %v", o, err)
		return
	}
	r := dyn.Resource(m.Resource)
	var ri dynamic.ResourceInterface = r
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = r.Namespace(ns)
	}
	force := true
	_, err = ri.Patch(ctx, o.Name, types.ApplyPatchType, o.JSON, metav1.PatchOptions{
		DryRun: []string{metav1.DryRunAll}, FieldManager: "check", FieldValidation: "Strict", Force: &force,
	})
	if err != nil {
		t.Errorf("%s: %v", o, err)
	}
}

// podOf is the pod a workload creates, as its controller would make it.
func podOf(o manifest.Object) *corev1.Pod {
	var tmpl corev1.PodTemplateSpec
	switch w := o.Typed.(type) {
	case *appsv1.Deployment:
		tmpl = w.Spec.Template
	case *appsv1.StatefulSet:
		tmpl = w.Spec.Template
		for _, c := range w.Spec.VolumeClaimTemplates {
			tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name + "-" + w.Name + "-0"},
			}})
		}
	default:
		return nil
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: o.Name + "-0", Labels: tmpl.Labels, Annotations: tmpl.Annotations}, Spec: tmpl.Spec}
}

// knativeEventTypeCRD is Knative Eventing's EventType CRD, vendored (its source in the file).
const knativeEventTypeCRD = "testdata/knative-eventing-eventtype.yaml"

// installCRDs creates the ServiceMonitor and PrometheusRule CRDs from prometheus-operator's module
// (fetched by deploy/tools/build.sh) and Knative's EventType CRD, and waits until they are served.
func installCRDs(t *testing.T, ctx context.Context, cfg *rest.Config) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(tools.CRDDir(t), "*.yaml"))
	if err != nil || len(files) != 2 {
		t.Fatalf("CRDs: %v %v", files, err)
	}
	files = append(files, knativeEventTypeCRD)
	client := apiextensionsclient.NewForConfigOrDie(cfg)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatal(err)
		}
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			got, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if established(got) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("CRD %s not established within 1m", crd.Name)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}
