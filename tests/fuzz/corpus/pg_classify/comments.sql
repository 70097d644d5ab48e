/* c */ SELECT 1 -- tail
; /* unterminated