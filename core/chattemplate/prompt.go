package chattemplate

// Prompt renders a conversation and opens the assistant turn the model is
// to write next (the "generation prompt" of Hugging Face templates): what
// a server feeds a model trained with the template. Both templates are
// ChatML, so the turn opens with <|im_start|>assistant\n and ends at the
// model's <|im_end|> (EndOfTurn).
func Prompt(t Template, c Conversation) ([]Piece, error) {
	pieces, err := t.Render(c)
	if err != nil {
		return nil, err
	}
	var r chatML
	r.pieces = pieces
	r.open("assistant", len(c.Messages))
	return r.pieces, nil
}

// EndOfTurn is the special token that ends an assistant turn.
const EndOfTurn = "<|im_end|>"
