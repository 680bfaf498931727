//! Every secret of the store sealed again with the current key (`sealing`): after a rotation
//! (`idp secrets rotate`), and for values stored before sealing (at start); and how many
//! secrets each key seals, so that an operator knows when an old key may go.

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StoreResult;
use crate::schema::{second_factors, server_secrets, totp_cards};
use crate::sealing::{sealed_by, Reseal, ResealReport, SealingKeys};

/// Re-seals every secret of the store (second factors, cards, server secrets), each table in
/// one transaction. Each row is rewritten only if it still holds the value read, so two passes
/// at once (two replicas starting) do not undo each other.
pub fn reseal(conn: &mut DbConnection, keys: &dyn SealingKeys, what: Reseal) -> StoreResult<ResealReport> {
    let mut report = crate::second_factors::reseal(conn, keys, what)?;
    report += crate::cards::reseal(conn, keys, what)?;
    report += crate::server_secrets::reseal(conn, keys, what)?;
    Ok(report)
}

/// How many stored secrets each key sealed (`None`: not sealed), for `idp secrets list`: a key
/// that seals nothing any more may be removed.
pub fn census(conn: &mut DbConnection) -> StoreResult<BTreeMap<Option<String>, usize>> {
    let mut values: Vec<String> = second_factors::table.select(second_factors::secret).load(conn)?;
    values.extend(totp_cards::table.select(totp_cards::secret).load::<String>(conn)?);
    values.extend(server_secrets::table.select(server_secrets::value).load::<String>(conn)?);
    let mut counts = BTreeMap::new();
    for value in &values {
        *counts.entry(sealed_by(value).map(str::to_owned)).or_insert(0) += 1;
    }
    Ok(counts)
}
