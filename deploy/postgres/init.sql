-- Run once by the postgres image on an empty data volume (docker-compose.yml).
-- POSTGRES_DB (rasa) holds Rasa's tracker store; Django and the actions' orders get their own.
CREATE DATABASE django;
CREATE DATABASE orders;
