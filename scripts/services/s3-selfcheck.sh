# `services.sh selfcheck`: slower S3 feature checks of the running gateway, not part of `up`
# (object lock implies versioning; lifecycle expiry with the 10 s "day" of rgw lc debug interval).
# shellcheck shell=bash

# s3curl METHOD PATH [curl args]: a body-less S3 request signed as the test user
s3curl() {
  local method=$1 path=$2; shift 2
  curl -fsS --max-time 10 -X "$method" -H "x-amz-content-sha256: $EMPTY_SHA256" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    "$@" "http://$RGW_HOST:$RGW_PORT$path"
}

selfcheck_object_lock() {
  local b=dbb-lock-check-$$ lock vers
  s3curl PUT "/$b" -H "x-amz-bucket-object-lock-enabled: true" -o /dev/null ||
    die "selfcheck: create bucket with object lock enabled"
  lock=$(s3curl GET "/$b?object-lock=" || true)   # (curl's SigV4 needs the "=")
  vers=$(s3curl GET "/$b?versioning=" || true)
  s3curl DELETE "/$b" -o /dev/null || log "selfcheck: could not delete bucket $b"
  grep -q "<ObjectLockEnabled>Enabled</ObjectLockEnabled>" <<<"$lock" || die "selfcheck: object lock not enabled: $lock"
  grep -q "<Status>Enabled</Status>" <<<"$vers" || die "selfcheck: object-lock bucket is not versioned: $vers"
  echo "object lock bucket ok (versioning enabled with it)"
}

selfcheck() {
  s3_list_ok || die "selfcheck: S3 is not up; run services.sh up first"
  selfcheck_object_lock
  local b=dbb-lc-check-$$ tmp t0
  tmp=$(mktemp -d)
  cat >"$tmp/lc.xml" <<'EOF'
<LifecycleConfiguration>
  <Rule>
    <ID>expire-tmp</ID>
    <Filter><Prefix>tmp/</Prefix></Filter>
    <Status>Enabled</Status>
    <Expiration><Days>1</Days></Expiration>
  </Rule>
</LifecycleConfiguration>
EOF
  echo data >"$tmp/obj"
  s3cmd_ mb "s3://$b" >/dev/null
  s3cmd_ setlifecycle "$tmp/lc.xml" "s3://$b" >/dev/null
  s3cmd_ put "$tmp/obj" "s3://$b/tmp/a" >/dev/null
  s3cmd_ put "$tmp/obj" "s3://$b/keep/b" >/dev/null
  t0=$SECONDS
  log "selfcheck: lifecycle 'Expiration Days 1' on tmp/ (1 day = 10 s); waiting for tmp/a to vanish"
  while s3cmd_ ls "s3://$b/tmp/" | grep -q "tmp/a"; do
    ((SECONDS - t0 < 90)) || { s3cmd_ rb -r "s3://$b" >/dev/null 2>&1; rm -rf "$tmp"; die "selfcheck: lifecycle did not expire tmp/a within 90 s"; }
    sleep 1
  done
  local took=$((SECONDS - t0))
  s3cmd_ ls "s3://$b/keep/" | grep -q "keep/b" || die "selfcheck: lifecycle removed keep/b (outside the rule's prefix)"
  s3cmd_ rb -r "s3://$b" >/dev/null 2>&1
  rm -rf "$tmp"
  echo "lifecycle expiry ok (object gone ${took}s after upload; other prefix kept)"
}
