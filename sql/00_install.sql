-- The extension installs (loaded by --load-extension) and owns its schemas.
SELECT extname, extversion FROM pg_extension WHERE extname = 'stratum';
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'stratum%' ORDER BY 1;
