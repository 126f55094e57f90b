// Package kfakefail makes a kfake cluster answer produce requests with an error code before
// anything is appended: the answers a replicated Kafka gives while leadership moves or its
// in-sync set is short (SPEC §10). The publish tests and the fault suite's kfakeproc use it.
package kfakefail

import (
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Produce makes c answer every produce request for which code returns non-zero with that code
// on each partition it names; n counts produce requests from 1. Every other request is served.
func Produce(c *kfake.Cluster, code func(n int64) int16) {
	var count atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		fail := code(count.Add(1))
		if fail == 0 {
			return nil, nil, false
		}
		preq := req.(*kmsg.ProduceRequest)
		resp := preq.ResponseKind().(*kmsg.ProduceResponse)
		for _, t := range preq.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, fail
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
}
