package publish

import (
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishQueue hands concurrent publishes to one goroutine, which publishes whatever has queued
// up back to back. nats.go writes its buffer to the socket as soon as its flusher goroutine
// runs, so callbacks publishing each on its own goroutine cost about one write system call per
// two callbacks (0.64 per callback under 64 concurrent callbacks, /proc/<pid>/io syscw); from
// one goroutine publishing a queue's worth at a time, the flusher finds many messages buffered:
// 0.09 per callback in the same load, with about a tenth less CPU per callback in the bridge and
// a sixth less in nats-server (BENCHMARKS.md). The order of publishes is the order of arrival,
// as before.
type publishQueue struct {
	js   jetstream.JetStream
	reqs chan publishReq
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type publishReq struct {
	msg *nats.Msg
	res chan publishRes
}

type publishRes struct {
	ack jetstream.PubAckFuture
	err error
}

// maxBatch bounds what the publishing goroutine takes at once, so that the first of a long queue
// is not held back for the last.
const maxBatch = 256

var resultChans = sync.Pool{New: func() any { return make(chan publishRes, 1) }}

func newPublishQueue(js jetstream.JetStream, depth int) *publishQueue {
	q := &publishQueue{js: js, reqs: make(chan publishReq, depth), stop: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

// publish queues msg and returns its acknowledgement future once it has been published.
func (q *publishQueue) publish(msg *nats.Msg) (jetstream.PubAckFuture, error) {
	res := resultChans.Get().(chan publishRes)
	select {
	case q.reqs <- publishReq{msg: msg, res: res}:
	case <-q.stop:
		resultChans.Put(res)
		return nil, ErrClosed
	}
	r := <-res
	resultChans.Put(res)
	return r.ack, r.err
}

func (q *publishQueue) run() {
	defer close(q.done)
	batch := make([]publishReq, 0, maxBatch)
	for {
		select {
		case req := <-q.reqs:
			batch = append(batch[:0], req)
		case <-q.stop:
			for { // answer what is still queued
				select {
				case req := <-q.reqs:
					req.res <- publishRes{err: ErrClosed}
				default:
					return
				}
			}
		}
	more:
		for len(batch) < maxBatch {
			select {
			case req := <-q.reqs:
				batch = append(batch, req)
			default:
				break more
			}
		}
		for _, req := range batch {
			ack, err := q.js.PublishMsgAsync(req.msg)
			req.res <- publishRes{ack: ack, err: err}
		}
	}
}

// close stops the queue; publishes after it fail with ErrClosed. Safe to call more than once.
func (q *publishQueue) close() {
	q.once.Do(func() { close(q.stop) })
	<-q.done
}
