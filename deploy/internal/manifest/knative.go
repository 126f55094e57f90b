package manifest

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// EventType is Knative Eventing's eventing.knative.dev/v1beta2 EventType, as the CRD of
// deploy/dryrun/testdata/knative-eventing-eventtype.yaml declares its spec (Knative's Go module
// would bring its whole dependency graph for one struct). The strict decode refuses a field the
// CRD lacks; the dry run checks the objects against the CRD itself.
type EventType struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              EventTypeSpec `json:"spec"`
}

// EventTypeSpec is an EventType's spec: the CloudEvents type and source, the schema's URI, and
// the resource (a Broker) the events can be consumed from.
type EventTypeSpec struct {
	Type        string      `json:"type,omitempty"`
	Source      string      `json:"source,omitempty"`
	Schema      string      `json:"schema,omitempty"`
	SchemaData  string      `json:"schemaData,omitempty"`
	Description string      `json:"description,omitempty"`
	Broker      string      `json:"broker,omitempty"` // deprecated: reference
	Reference   *KReference `json:"reference,omitempty"`
}

// KReference is Knative's reference to another object.
type KReference struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Address    string `json:"address,omitempty"`
}
