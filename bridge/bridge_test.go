package bridge

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/publish"
)

// The undo list runs what start-up set up in reverse order.
func TestUndoReverse(t *testing.T) {
	var got []int
	var u undo
	for i := range 3 {
		u.push(func() { got = append(got, i) })
	}
	u.run()
	if !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("undo ran %v, want [2 1 0]", got)
	}
}

func TestIsConfigError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&config.Error{Line: "CALLBRIDGE_X=1: no"}, true},
		{fmt.Errorf("start: %w", &config.Error{Line: "x"}), true},
		{&publish.SettingError{}, true},
		{ErrStoppedWhileConnecting, false},
		{errors.New("listen on :80: permission denied"), false},
	} {
		if got := IsConfigError(tc.err); got != tc.want {
			t.Errorf("IsConfigError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
