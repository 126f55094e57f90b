package normalize

// maxPaths bounds how many paths lookupPaths finds in one pass: a canonical mapping names at
// most one per canonical field.
const maxPaths = 24

// lookupPaths finds the value at each dotted path of paths in the JSON object obj in one pass
// over it, descending only into members some path goes through: vals[i] is the raw value at
// paths[i], nil when obj lacks it (or paths[i] is ""); a last segment "name[0]" is the first
// element of the array name. obj must be valid JSON (an event's data);
// a member whose name has escapes matches no path. It allocates nothing.
func lookupPaths(obj []byte, paths []string, vals [][]byte) {
	var offs [maxPaths]int
	for i := range paths {
		vals[i] = nil
		if paths[i] == "" {
			offs[i] = -1
		}
	}
	lookupLevel(obj, paths, vals, offs)
}

// lookupLevel reads the members of obj against each live path's segment at offs[i] (-1: not
// live), recursing into an object member that a live path goes through.
func lookupLevel(obj []byte, paths []string, vals [][]byte, offs [maxPaths]int) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		kEnd, _, err := scanStringEscapes(obj, i)
		if err != nil {
			return
		}
		key := obj[i+1 : kEnd-1]
		vStart := skipSpace(obj, skipSpace(obj, kEnd)+1) // past the colon
		vEnd, err := scanValue(obj, vStart, 1)
		if err != nil {
			return
		}
		val := obj[vStart:vEnd]
		var deeper [maxPaths]int
		descend := false
		for p := range paths {
			if offs[p] < 0 {
				continue
			}
			rest := paths[p][offs[p]:]
			if len(rest) < len(key) || string(rest[:len(key)]) != string(key) {
				continue
			}
			switch {
			case len(rest) == len(key):
				vals[p] = val
			case rest[len(key):] == "[0]": // the array's first element, as the path's last segment
				if len(val) > 0 && val[0] == '[' {
					vals[p] = firstElement(val)
				}
			case rest[len(key)] == '.' && len(val) > 0 && val[0] == '{':
				if !descend {
					descend = true
					for q := range paths {
						deeper[q] = -1
					}
				}
				deeper[p] = offs[p] + len(key) + 1
			}
		}
		if descend {
			lookupLevel(val, paths, vals, deeper)
		}
		var done bool
		if i, done, err = nextElement(obj, vEnd, '}'); err != nil || done {
			return
		}
	}
}
