"""The report builder: entity, filters, one or two dimensions, measures; saved and shared."""
