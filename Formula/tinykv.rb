# Homebrew formula for the TinyKV daemon and CLI (the `tinykv` binary), built from the release's
# source tarball with cargo. Installable as rendered for a release: scripts/release-formula.sh
# writes homepage, url and sha256 (the release workflow attaches the result as tinykv.rb).
class Tinykv < Formula
  desc "Key-value cache daemon and REPL with TTLs, LRU caps and the Redis protocol"
  # homepage, url, sha256: written by scripts/release-formula.sh for each release.
  license "MIT"

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args
  end

  def post_install
    (var/"tinykv").mkpath
    (var/"run").mkpath
    (var/"log").mkpath
  end

  # `brew services start tinykv`: the daemon on a Unix socket only (add --port and a password
  # file to reach it over TCP), its snapshot under Homebrew's var, saved every minute when
  # anything changed and on stop.
  service do
    run [opt_bin/"tinykv", "serve",
         "--socket", var/"run/tinykv.sock",
         "--snapshot", var/"tinykv/dump.snap",
         "--save-interval", "60",
         "--save-on-shutdown"]
    keep_alive true
    working_dir var/"tinykv"
    log_path var/"log/tinykv.log"
    error_log_path var/"log/tinykv.log"
  end

  test do
    # The REPL on an in-process store, fed from stdin: a value set is the value read back.
    assert_equal "OK\nhello\n", pipe_output(bin/"tinykv", "SET greeting hello\nGET greeting\n", 0)
    assert_match version.to_s, shell_output("#{bin}/tinykv --version")
  end
end
