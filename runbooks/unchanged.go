package runbooks

import (
	"fmt"
	"reflect"
	"unsafe"
)

// Unchanged parses the embedded runbooks afresh and compares each with the shared copy
// every command of this process has used, field by field (unexported ones and compiled
// expressions included). It returns the first difference, naming the runbook and the
// field's path: a command that changed a shared runbook would change the next
// command's procedure. Tests call it after running every command in one process.
func Unchanged() error {
	all, _ := All()
	for _, rb := range all {
		p := rb.ID + ".yaml"
		fresh, err := parseEmbedded(p)
		if err != nil {
			return err
		}
		c := comparer{seen: map[[2]unsafe.Pointer]bool{}}
		if where := c.diff(reflect.ValueOf(fresh), reflect.ValueOf(rb), "Runbook"); where != "" {
			return fmt.Errorf("the shared copy of runbook %s was changed after it was read: %s differs from a fresh parse", rb.ID, where)
		}
	}
	return nil
}

// comparer walks two values of the same type in step. Functions compare by whether they
// are set: two compilations of one expression hold equal but distinct closures.
type comparer struct {
	seen map[[2]unsafe.Pointer]bool
}

func (c *comparer) diff(a, b reflect.Value, path string) string {
	if a.IsValid() != b.IsValid() {
		return path
	}
	if !a.IsValid() {
		return ""
	}
	if a.Type() != b.Type() {
		return path + " (type)"
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return path
		}
		if a.IsNil() {
			return ""
		}
		if a.Kind() == reflect.Slice && a.Len() != b.Len() {
			return path + " (length)"
		}
		if a.Kind() != reflect.Slice || a.Len() > 0 {
			key := [2]unsafe.Pointer{a.UnsafePointer(), b.UnsafePointer()}
			if c.seen[key] {
				return ""
			}
			c.seen[key] = true
		}
	}
	switch a.Kind() {
	case reflect.Pointer:
		return c.diff(a.Elem(), b.Elem(), path)
	case reflect.Interface:
		if a.IsNil() != b.IsNil() {
			return path
		}
		return c.diff(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if d := c.diff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return path + " (length)"
		}
		for i := range a.Len() {
			if d := c.diff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	case reflect.Map:
		if a.Len() != b.Len() {
			return path + " (length)"
		}
		it := a.MapRange()
		for it.Next() {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() {
				return fmt.Sprintf("%s[%v]", path, it.Key())
			}
			if d := c.diff(it.Value(), bv, fmt.Sprintf("%s[%v]", path, it.Key())); d != "" {
				return d
			}
		}
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		if a.IsNil() != b.IsNil() {
			return path
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return path
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return path
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			return path
		}
	case reflect.Float32, reflect.Float64:
		if a.Float() != b.Float() && a.Float() == a.Float() {
			return path
		}
	case reflect.Complex64, reflect.Complex128:
		if a.Complex() != b.Complex() {
			return path
		}
	case reflect.String:
		if a.String() != b.String() {
			return path
		}
	}
	return ""
}
