-- The review app's database (docker-compose.yml service `review`) and the audit history
-- (warehouse); the app and the audit create their tables. Runs once, when the postgres service
-- initialises an empty volume; airflow-init also creates them on an older volume.
CREATE DATABASE dibao_review OWNER airflow;
CREATE DATABASE dibao_warehouse OWNER airflow;
