"""The field's metrics (MolT5 caption scores, PubMedQA accuracy and macro-F1, answer extraction) and the files they score."""
