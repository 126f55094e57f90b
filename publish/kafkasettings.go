package publish

import (
	"fmt"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

func kafkaAcks(s string) (kafka.RequiredAcks, error) {
	switch s {
	case "all", "":
		return kafka.RequireAll, nil
	case "one":
		return kafka.RequireOne, nil
	case "none":
		return kafka.RequireNone, nil
	}
	return 0, fmt.Errorf("kafka required acks %q: want all, one or none", s)
}

func kafkaCompression(s string) (kafka.Compression, error) {
	switch s {
	case "none", "":
		return 0, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "zstd":
		return kafka.Zstd, nil
	}
	return 0, fmt.Errorf("kafka compression %q: want none, gzip, snappy, lz4 or zstd", s)
}

func kafkaSASL(mechanism, user, password string) (sasl.Mechanism, error) {
	switch mechanism {
	case "none", "":
		return nil, nil
	case "plain":
		return plain.Mechanism{Username: user, Password: password}, nil
	case "scram-sha-256", "scram-sha-512":
		algo := scram.SHA256
		if mechanism == "scram-sha-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, user, password)
		if err != nil {
			return nil, fmt.Errorf("kafka SASL %s: %w", mechanism, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("kafka SASL mechanism %q: want none, plain, scram-sha-256 or scram-sha-512", mechanism)
}
