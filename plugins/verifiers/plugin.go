package verifiers

import "github.com/swelego/swelego/sdk"

// Version is the version of the verifier plugins.
const Version = "0.1.0"

// Plugin names, as swelego registers them and as their binaries are
// named (swelego-plugin-NAME).
const (
	NameGenerative = "verifier-generative"
	NameTests      = "verifier-tests"
	NameHybrid     = "verifier-hybrid"
)

var _ sdk.Verifier = Generative{}

// NewGenerative returns the generative verifier plugin.
func NewGenerative() *sdk.Plugin {
	return &sdk.Plugin{
		Name: NameGenerative, Version: Version,
		Description: "judge model's P(YES)/(P(YES)+P(NO)) that the patch resolves the task",
		Verifier:    Generative{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindVerifier: GenerativeSchema},
	}
}

// NewTests returns the tests verifier plugin.
func NewTests() *sdk.Plugin {
	return &sdk.Plugin{
		Name: NameTests, Version: Version,
		Description: "pass rate of the repository's tests that pass at base, and of the agent's reproduction tests, after the patch",
		Verifier:    NewTestsVerifier(),
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindVerifier: TestsSchema},
	}
}

// NewHybrid returns the hybrid verifier plugin.
func NewHybrid() *sdk.Plugin {
	return &sdk.Plugin{
		Name: NameHybrid, Version: Version,
		Description: "R2E-Gym's hybrid: the top half by the judge, then the best test pass rate, then the judge",
		Verifier:    NewHybridVerifier(),
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindVerifier: HybridSchema},
	}
}
