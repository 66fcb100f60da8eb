"""Similar matters, merged upward (集中的问题): topics with similar content held here, suggested for grouping."""
