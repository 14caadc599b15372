-- One row per day, bucket and team: the fleet numbers as they stood when the day's snapshot was
-- taken (the additive sums the dashboard's summary is built from), so trends survive the hosts'
-- own state moving on. A few dozen rows a day whatever the fleet's size; kept 400 days (13 months).
CREATE TABLE fleet_snapshots (
  day               date NOT NULL,
  bucket            text NOT NULL,
  team              text NOT NULL,
  taken_at          timestamptz NOT NULL,
  hosts             integer NOT NULL,
  stale             integer NOT NULL,
  clean             integer NOT NULL,
  critical          integer NOT NULL,
  high              integer NOT NULL,
  medium            integer NOT NULL,
  low               integer NOT NULL,
  other             integer NOT NULL,
  pending_reboots   integer NOT NULL,
  fixes             double precision NOT NULL,
  fix_day_sum       double precision NOT NULL,
  available_updates integer NOT NULL,
  under7            integer NOT NULL,
  under30           integer NOT NULL,
  under90           integer NOT NULL,
  under365          integer NOT NULL,
  over365           integer NOT NULL,
  max_uptime_days   double precision,
  PRIMARY KEY (day, bucket, team)
);
