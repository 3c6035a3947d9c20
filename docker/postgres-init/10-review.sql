-- The review app's own database (docker-compose.yml service `review`); the app migrates it.
-- Runs once, when the postgres service initialises an empty volume.
CREATE DATABASE dibao_review OWNER airflow;
