DROP TABLE audit_anchor_heads;
DROP TABLE audit_anchors;
