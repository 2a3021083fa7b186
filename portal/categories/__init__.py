"""Categories of needs: the model, their extra questions and their admin pages."""
