#!/usr/bin/env bash
# Real Dovecot (IMAP + LMTP) and Postfix (SMTP) on 127.0.0.1 for the email tests
# (tests/intake/email_ingest/test_real_servers.py). See docs/subsystems/email.md.
#
#   bash .ci/mailservers.sh          install (apt) if needed, (re)start both, write the env file
#   bash .ci/mailservers.sh stop     stop both
#
# Everything lives under $OPSDESK_MAIL_DIR (default /tmp/opsdesk-mail): configs, mailboxes,
# queue, logs, and `env` (ports and test accounts) which the tests read.
# Postfix accepts mail for opsdesk.test and customer.test only, from 127.0.0.1 only, and
# hands it to Dovecot over LMTP; anything else bounces locally: nothing is relayed out.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

ROOT=${OPSDESK_MAIL_DIR:-/tmp/opsdesk-mail}
IMAP_PORT=${OPSDESK_TEST_IMAP_PORT:-10143}
SMTP_PORT=${OPSDESK_TEST_SMTP_PORT:-10025}
LMTP_PORT=${OPSDESK_TEST_LMTP_PORT:-10024}
PASSWORD=opsdesk-test-pw

stop() {
  if [ -f "$ROOT/dovecot/dovecot.conf" ]; then
    doveadm -c "$ROOT/dovecot/dovecot.conf" stop 2>/dev/null || true
  fi
  if [ -f "$ROOT/postfix/main.cf" ]; then
    postfix -c "$ROOT/postfix" stop 2>/dev/null || true
  fi
}

install() {
  if command -v dovecot >/dev/null && command -v postfix >/dev/null \
    && [ -e /usr/lib/dovecot/lmtp ] && [ -e /usr/lib/dovecot/imap ]; then
    return
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string mx.opsdesk.test" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    postfix dovecot-core dovecot-imapd dovecot-lmtpd >/dev/null
  # The packages may start system-wide instances; ours run on their own ports and dirs.
  service postfix stop >/dev/null 2>&1 || true
  service dovecot stop >/dev/null 2>&1 || true
}

dovecot_config() {
  mkdir -p "$ROOT/dovecot" "$ROOT/run" "$ROOT/mail"
  chown mail:mail "$ROOT/mail"
  cat >"$ROOT/dovecot/users" <<USERS
support@opsdesk.test:{PLAIN}$PASSWORD:8:8::$ROOT/mail/opsdesk.test/support
customer@customer.test:{PLAIN}$PASSWORD:8:8::$ROOT/mail/customer.test/customer
USERS
  cat >"$ROOT/dovecot/dovecot.conf" <<CONF
base_dir = $ROOT/run/dovecot
state_dir = $ROOT/run/dovecot-state
log_path = $ROOT/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 8
mail_location = maildir:~/Maildir
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $ROOT/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $ROOT/dovecot/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
protocol lmtp {
  auth_username_format = %Lu
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Processed {
    auto = create
  }
}
CONF
  mkdir -p "$ROOT/run/dovecot-state"
}

postfix_config() {
  mkdir -p "$ROOT/postfix" "$ROOT/postfix-queue" "$ROOT/postfix-data"
  cat >"$ROOT/postfix/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $ROOT/postfix-queue
data_directory = $ROOT/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.opsdesk.test
mydomain = opsdesk.test
myorigin = opsdesk.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
virtual_mailbox_domains = opsdesk.test, customer.test
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
relay_domains =
relayhost =
default_transport = error:mail outside the test domains is not delivered
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtputf8_enable = no
maillog_file = $ROOT/postfix.log
maillog_file_prefixes = $ROOT
shlib_directory = /usr/lib/postfix
CONF
  sed -e "s/^smtp\( \+\)inet/$SMTP_PORT\1inet/" \
    -e 's/^\([a-z0-9]\+ \+[a-z]\+ \+[-yn] \+[-yn] \+\)[-yn]/\1n/' \
    /etc/postfix/master.cf >"$ROOT/postfix/master.cf"
  # master.cf may list the same smtp service twice; keep only our listener on 127.0.0.1.
  sed -i "s/^$SMTP_PORT /127.0.0.1:$SMTP_PORT /" "$ROOT/postfix/master.cf"
  grep -q "^postlog" "$ROOT/postfix/master.cf" \
    || echo "postlog   unix-dgram n  -       n       -       1       postlogd" >>"$ROOT/postfix/master.cf"
  chown -R root:root "$ROOT/postfix"
  postfix -c "$ROOT/postfix" set-permissions >/dev/null 2>&1 || true
  postfix -c "$ROOT/postfix" check
}

wait_port() {
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "port $1 did not open" >&2
  return 1
}

if [ "${1:-start}" = stop ]; then
  stop
  exit 0
fi
install
stop
dovecot_config
postfix_config
dovecot -c "$ROOT/dovecot/dovecot.conf"
postfix -c "$ROOT/postfix" start
wait_port "$IMAP_PORT"
wait_port "$LMTP_PORT"
wait_port "$SMTP_PORT"
cat >"$ROOT/env" <<ENV
OPSDESK_TEST_MAIL_HOST=127.0.0.1
OPSDESK_TEST_IMAP_PORT=$IMAP_PORT
OPSDESK_TEST_SMTP_PORT=$SMTP_PORT
OPSDESK_TEST_LMTP_PORT=$LMTP_PORT
OPSDESK_TEST_SUPPORT_USER=support@opsdesk.test
OPSDESK_TEST_CUSTOMER_USER=customer@customer.test
OPSDESK_TEST_MAIL_PASSWORD=$PASSWORD
ENV
echo "mail servers up: IMAP 127.0.0.1:$IMAP_PORT, SMTP 127.0.0.1:$SMTP_PORT (env: $ROOT/env)"
