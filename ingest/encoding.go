package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"sync"
)

// Compressed bodies. A sender may gzip its body (GetStream does, with Content-Encoding: gzip);
// the signature covers the uncompressed bytes, so the body is inflated as it is read, into the
// same buffer, under the same limit and budget as any body: CALLBRIDGE_MAX_BODY_BYTES bounds the
// inflated size (413 past it), so a small bomb cannot grow past what a plain body could. The
// compressed bytes are never held whole. Verify, Normalize and a dead letter see the inflated
// body. An encoding other than gzip or identity is 415; a body that is not valid gzip is 400
// (a permanent failure: the same bytes would fail again).

var (
	errEncoding = errors.New("unsupported Content-Encoding")
	errBadGzip  = errors.New("body is not valid gzip")
)

var (
	errEncodingReply = []byte(`{"error":"unsupported Content-Encoding: send gzip or identity"}`)
	errBadGzipReply  = []byte(`{"error":"body is not valid gzip"}`)
)

// inflater is a pooled gzip reader and the source it reads, whose own error (a client gone,
// a read timeout) is told apart from a corrupt stream.
type inflater struct {
	gz  gzip.Reader
	src source
}

// source records the error of the reader it wraps.
type source struct {
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

var inflaters sync.Pool

// decoding returns what reads the body of a request with Content-Encoding enc from r: r itself
// for none or identity, an inflater for gzip (release it with done), else errEncoding.
func decoding(enc []byte, r io.Reader) (io.Reader, *inflater, error) {
	switch {
	case len(enc) == 0 || bytes.EqualFold(enc, []byte("identity")):
		return r, nil, nil
	case !bytes.EqualFold(enc, []byte("gzip")) && !bytes.EqualFold(enc, []byte("x-gzip")):
		return nil, nil, errEncoding
	}
	f, _ := inflaters.Get().(*inflater)
	if f == nil {
		f = new(inflater)
	}
	f.src = source{r: r}
	if err := f.gz.Reset(&f.src); err != nil {
		err = f.err(err)
		f.done()
		return nil, nil, err
	}
	return f, f, nil
}

func (f *inflater) Read(p []byte) (int, error) {
	n, err := f.gz.Read(p)
	if err != nil && err != io.EOF {
		err = f.err(err)
	}
	return n, err
}

// err is the source's own error when it failed, else errBadGzip: the stream is corrupt.
func (f *inflater) err(err error) error {
	if f.src.err != nil {
		return f.src.err
	}
	return errBadGzip
}

func (f *inflater) done() {
	f.src = source{}
	inflaters.Put(f)
}
