package chatauth

import "testing"

func TestPackageBuilds(t *testing.T) {}
