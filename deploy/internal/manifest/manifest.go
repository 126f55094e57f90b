// Package manifest splits rendered YAML into objects and decodes each strictly into its
// Kubernetes API type, so a misspelt or misplaced field is an error rather than silently dropped.
package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Object is one rendered object.
type Object struct {
	APIVersion, Kind, Name string
	JSON                   []byte // the object as JSON, as the apiserver receives it
	Typed                  any    // *appsv1.Deployment, *corev1.Service, ...
}

func (o Object) String() string { return o.Kind + "/" + o.Name }

// types are the kinds the chart, the kustomize bases and the examples may contain.
var types = map[string]func() any{
	"v1/ServiceAccount":                       func() any { return new(corev1.ServiceAccount) },
	"v1/Service":                              func() any { return new(corev1.Service) },
	"v1/ConfigMap":                            func() any { return new(corev1.ConfigMap) },
	"v1/Namespace":                            func() any { return new(corev1.Namespace) },
	"v1/Secret":                               func() any { return new(corev1.Secret) },
	"apps/v1/Deployment":                      func() any { return new(appsv1.Deployment) },
	"apps/v1/StatefulSet":                     func() any { return new(appsv1.StatefulSet) },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"policy/v1/PodDisruptionBudget":           func() any { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1/Ingress":            func() any { return new(networkingv1.Ingress) },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return new(monitoringv1.ServiceMonitor) },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return new(monitoringv1.PrometheusRule) },
	"eventing.knative.dev/v1beta2/EventType":  func() any { return new(EventType) },
}

// Decode splits a multi-document YAML stream and decodes every object strictly.
func Decode(stream []byte) ([]Object, error) {
	var objs []Object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		o, err := decodeOne(doc)
		if errors.Is(err, errEmpty) {
			continue // a template that rendered nothing but its "# Source:" comment
		}
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, nil
}

var errEmpty = errors.New("empty document")

func decodeOne(doc []byte) (Object, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return Object{}, fmt.Errorf("%w\n%s", err, doc)
	}
	if string(bytes.TrimSpace(js)) == "null" {
		return Object{}, errEmpty
	}
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(js); err != nil {
		return Object{}, fmt.Errorf("%w\n%s", err, doc)
	}
	o := Object{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Name: u.GetName(), JSON: js}
	newT, ok := types[o.APIVersion+"/"+o.Kind]
	if !ok {
		return o, fmt.Errorf("%s %s: a kind this check does not know; add its type to manifest.types", o.APIVersion, o)
	}
	o.Typed = newT()
	if err := yaml.UnmarshalStrict(doc, o.Typed); err != nil {
		return o, fmt.Errorf("%s: %w", o, err)
	}
	return o, nil
}
