//! The State design system's files (`@gouvfr/dsfr`, installed by `npm ci`), served from its
//! `dist` folder under a path that names its version, so that browsers may keep them for a year:
//! a new version is a new path.
//!
//! Only regular files inside that folder are served: no listing, no hidden file, no `..`, and a
//! symbolic link that leads out of the folder is refused like a missing file.

use std::path::{Path, PathBuf};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::AppState;
use crate::configuration::ConfigError;

/// Where the files are served, followed by `/{version}/…`.
pub const PATH_PREFIX: &str = "/static/dsfr";

/// The files the pages link to: each must be there for the server to start.
const REQUIRED: [&str; 4] =
    ["dsfr.min.css", "dsfr.module.min.js", "dsfr.nomodule.min.js", "fonts/Marianne-Regular.woff2"];

/// Versioned paths never change content: a year, and no revalidation.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The design system's `dist` folder, checked at start.
#[derive(Debug, Clone)]
pub struct DsfrAssets {
    /// Canonical, so that a resolved file can be checked to lie inside it.
    dir: PathBuf,
    version: String,
}

impl DsfrAssets {
    /// Checks that `dir` holds the files the pages need and reads the version from the
    /// stylesheet's banner (`DSFR v1.15.3`). Missing files are a configuration error that says
    /// how to install them.
    pub fn open(dir: &Path) -> Result<DsfrAssets, ConfigError> {
        let missing = |what: String| ConfigError::Invalid {
            key: "ui.assets_dir",
            reason: format!(
                "{what}: the State design system is not installed; run `npm ci` at the repository's root \
                 (or point ui.assets_dir at the `dist` folder of @gouvfr/dsfr)"
            ),
        };
        let canonical = dir.canonicalize().map_err(|e| missing(format!("{}: {e}", dir.display())))?;
        for file in REQUIRED {
            if !canonical.join(file).is_file() {
                return Err(missing(format!("{} has no {file}", dir.display())));
            }
        }
        let stylesheet = std::fs::read(canonical.join("dsfr.min.css"))
            .map_err(|e| missing(format!("{}: {e}", canonical.join("dsfr.min.css").display())))?;
        let version = banner_version(&stylesheet).ok_or_else(|| ConfigError::Invalid {
            key: "ui.assets_dir",
            reason: format!(
                "{}/dsfr.min.css names no DSFR version: is this the `dist` folder of @gouvfr/dsfr?",
                dir.display()
            ),
        })?;
        Ok(DsfrAssets { dir: canonical, version })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// `/static/dsfr/{version}`: what pages put before a file's name.
    pub fn base_path(&self) -> String {
        format!("{PATH_PREFIX}/{}", self.version)
    }

    /// The file `relative` names inside the folder, if it is a regular file there.
    pub fn resolve(&self, relative: &str) -> Option<PathBuf> {
        let mut path = self.dir.clone();
        for segment in relative.split('/') {
            // Hidden files, `.` and `..`, empty segments and anything a file system could read
            // as a separator or a drive are refused before touching the disk.
            let plain = !segment.is_empty() && !segment.starts_with('.') && !segment.contains(['\\', ':', '\0']);
            if !plain {
                return None;
            }
            path.push(segment);
        }
        // A symbolic link could still lead out of the folder.
        let real = path.canonicalize().ok()?;
        (real.starts_with(&self.dir) && real.is_file()).then_some(real)
    }
}

/// The version in the stylesheet's first comment (`/*! DSFR v1.15.3 | … */`).
fn banner_version(stylesheet: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&stylesheet[..stylesheet.len().min(512)]);
    let after = head.split("DSFR v").nth(1)?;
    let version: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
    (!version.is_empty()).then_some(version)
}

/// `GET /static/dsfr/{version}/{file…}`: a file of the design system, kept a year by browsers.
/// Another version than the one installed is not found: its files may differ.
pub async fn file(req: HttpRequest, path: web::Path<(String, String)>, state: web::Data<AppState>) -> HttpResponse {
    let (version, relative) = path.into_inner();
    if version != state.dsfr.version {
        return HttpResponse::NotFound().finish();
    }
    // Resolving and opening touch the file system: off the executor.
    let assets = state.dsfr.clone();
    let opened = web::block(move || assets.resolve(&relative).map(actix_files::NamedFile::open)).await;
    match opened {
        Ok(Some(Ok(named))) => {
            let mut response = named.disable_content_disposition().use_last_modified(false).into_response(&req);
            if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
            }
            response
        }
        Ok(Some(Err(e))) => {
            tracing::warn!(error = %e, "a design system file could not be opened");
            HttpResponse::NotFound().finish()
        }
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> (tempfile::TempDir, DsfrAssets) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist/fonts")).unwrap();
        let dist = dir.path().join("dist");
        std::fs::write(dist.join("dsfr.min.css"), "@charset \"UTF-8\";\n/*!\n * DSFR v1.15.3 | SPDX */a{}").unwrap();
        for file in ["dsfr.module.min.js", "dsfr.nomodule.min.js", "fonts/Marianne-Regular.woff2", ".hidden"] {
            std::fs::write(dist.join(file), "x").unwrap();
        }
        std::fs::write(dir.path().join("secret.txt"), "outside").unwrap();
        let assets = DsfrAssets::open(&dist).unwrap();
        (dir, assets)
    }

    #[test]
    fn the_version_comes_from_the_stylesheet_banner() {
        let (_dir, assets) = folder();
        assert_eq!(assets.version(), "1.15.3");
        assert_eq!(assets.base_path(), "/static/dsfr/1.15.3");
        assert_eq!(banner_version(b"a{}"), None);
    }

    #[test]
    fn only_regular_files_inside_the_folder_resolve() {
        let (dir, assets) = folder();
        assert!(assets.resolve("dsfr.min.css").is_some());
        assert!(assets.resolve("fonts/Marianne-Regular.woff2").is_some());
        for refused in [
            "fonts",
            "fonts/",
            "",
            "../secret.txt",
            "fonts/../../secret.txt",
            ".hidden",
            "./dsfr.min.css",
            "a\\b",
            "missing.css",
        ] {
            assert_eq!(assets.resolve(refused), None, "{refused}");
        }
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), dir.path().join("dist/link.txt")).unwrap();
        assert_eq!(assets.resolve("link.txt"), None, "a link out of the folder");
    }

    #[test]
    fn a_folder_without_the_design_system_says_to_run_npm_ci() {
        let dir = tempfile::tempdir().unwrap();
        let error = DsfrAssets::open(&dir.path().join("nothing")).unwrap_err().to_string();
        assert!(error.contains("`ui.assets_dir`") && error.contains("npm ci"), "{error}");
        let error = DsfrAssets::open(dir.path()).unwrap_err().to_string();
        assert!(error.contains("no dsfr.min.css") && error.contains("npm ci"), "{error}");
    }
}
