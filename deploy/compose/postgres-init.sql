-- One database per service, as each center and the access service keep their own state.
CREATE DATABASE access;
CREATE DATABASE asia;
CREATE DATABASE europe;
CREATE DATABASE us;
