package chatauth

import (
	"encoding/json"
	"testing"
	"time"
)

func TestUserJSON(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		user User
		want string
	}{
		{"minimal", User{Identifier: "ada"}, `{"identifier":"ada","display_name":null,"metadata":{}}`},
		{"display name", User{Identifier: "ada", DisplayName: "Ada"}, `{"identifier":"ada","display_name":"Ada","metadata":{}}`},
		{"metadata", User{Identifier: "ada", Metadata: map[string]any{"role": "admin", "n": 1}}, `{"identifier":"ada","display_name":null,"metadata":{"n":1,"role":"admin"}}`},
		{"persisted", User{ID: "u1", Identifier: "ada", CreatedAt: created}, `{"id":"u1","identifier":"ada","display_name":null,"metadata":{},"createdAt":"2024-01-02T02:04:05Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("Marshal = %s, want %s", b, tt.want)
			}
			pb, _ := json.Marshal(&tt.user)
			if string(pb) != tt.want {
				t.Errorf("Marshal(pointer) = %s", pb)
			}
			var back User
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.Identifier != tt.user.Identifier || back.DisplayName != tt.user.DisplayName || back.ID != tt.user.ID || !back.CreatedAt.Equal(tt.user.CreatedAt) {
				t.Errorf("round trip %+v, want %+v", back, tt.user)
			}
		})
	}
}

func TestUserFromChainlitJSON(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		created time.Time
	}{
		{"Chainlit persisted user, naive ISO time", `{"id":"7c4f","identifier":"ada","display_name":"Ada","metadata":{"a":1},"createdAt":"2024-01-02T03:04:05.123456"}`,
			time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)},
		{"zoned time", `{"identifier":"ada","createdAt":"2024-01-02T03:04:05+02:00"}`, time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)},
		{"no createdAt", `{"identifier":"ada","display_name":null}`, time.Time{}},
		{"unreadable createdAt", `{"identifier":"ada","createdAt":"yesterday"}`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u User
			if err := json.Unmarshal([]byte(tt.json), &u); err != nil {
				t.Fatal(err)
			}
			if u.Identifier != "ada" || !u.CreatedAt.Equal(tt.created) {
				t.Errorf("got %+v, want createdAt %v", u, tt.created)
			}
		})
	}
	var u User
	if err := json.Unmarshal([]byte(`{"identifier": 3}`), &u); err == nil {
		t.Error("accepted a number as identifier")
	}
}
