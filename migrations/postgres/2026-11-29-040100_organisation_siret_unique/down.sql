DROP INDEX organisations_siret_unique;
CREATE INDEX organisations_siret ON organisations (siret);
