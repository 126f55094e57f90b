package config

import (
	"strconv"
	"strings"
)

// AutoBool is a setting that is true, false, or auto (also the zero value): decided by Load from
// other settings.
type AutoBool string

// Decode implements envconfig.Decoder.
func (b *AutoBool) Decode(s string) error {
	if s == "" || strings.EqualFold(s, "auto") {
		*b = "auto"
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*b = AutoBool(strconv.FormatBool(v))
	return nil
}

// Bool returns b's value; ok is false when b is auto.
func (b AutoBool) Bool() (value, ok bool) {
	switch b {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
