-- Sample data for scripts/demo: the "analytics" database a nightly CI
-- export reads.  Names, emails and card numbers are made up; the card
-- numbers are the card networks' public test numbers (they pass the Luhn
-- check, so the masking plugin's card detector takes them for real ones).

CREATE TABLE customers (
	id          integer PRIMARY KEY,
	name        text NOT NULL,
	email       text NOT NULL,
	card_number text NOT NULL,
	country     text NOT NULL
);

CREATE TABLE orders (
	id          integer PRIMARY KEY,
	customer_id integer NOT NULL REFERENCES customers (id),
	amount      numeric(10, 2) NOT NULL,
	status      text NOT NULL
);

-- Last year's orders, kept "just in case": the table the demo's CI job
-- tries to drop.
CREATE TABLE orders_archive (LIKE orders);

INSERT INTO customers VALUES
	(1, 'Ada Lovelace',    'ada@example.com',      '4111 1111 1111 1111', 'GB'),
	(2, 'Grace Hopper',    'grace@example.org',    '5555 5555 5555 4444', 'US'),
	(3, 'Alan Turing',     'alan.t@example.net',   '3782 822463 10005',   'GB'),
	(4, 'Edsger Dijkstra', 'edsger@example.nl',    '6011111111111117',    'NL'),
	(5, 'Barbara Liskov',  'liskov@example.edu',   '4012-8888-8888-1881', 'US');

INSERT INTO orders VALUES
	(101, 1,  42.00, 'shipped'),
	(102, 2, 310.50, 'shipped'),
	(103, 2,  18.99, 'pending'),
	(104, 4,  99.00, 'refunded'),
	(105, 5,  12.25, 'shipped');

INSERT INTO orders_archive VALUES
	(1, 1, 10.00, 'shipped'),
	(2, 3, 20.00, 'shipped');
