-- One organisation per SIRET: `idp org add` refuses a second one, and this index makes the rule
-- hold for every writer. On a database that already holds two organisations with one SIRET this
-- migration fails naming the index; merge them (move aidants and mandates to one) and start again.
DROP INDEX organisations_siret;
CREATE UNIQUE INDEX organisations_siret_unique ON organisations (siret);
