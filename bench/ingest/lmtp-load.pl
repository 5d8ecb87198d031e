#!/usr/bin/perl
# lmtp-load.pl — a small LMTP load generator for bench/ingest/run that
# measures every message's round trip, which smtp-source cannot.  Core
# Perl only (IO::Socket::INET, Time::HiRes).
#
#   lmtp-load.pl HOST:PORT SESSIONS SECONDS RATE TAG FROM TO FILE...
#
# Runs SESSIONS connections in parallel (one process each) for SECONDS,
# as fast as the server answers (RATE 0) or paced to RATE messages per
# second in all (each session starts a message every SESSIONS/RATE s).
# Each keeps its connection and sends the FILEs round robin, each time with
# a fresh Message-ID ("<TAG.SESSION.SEQ.original-id>"), so the server does
# the whole work for every message (no "already accepted" shortcut).  Like
# Postfix's LMTP client it pipelines MAIL, RCPT and DATA, then sends the
# message.  The accept latency of a message is the time from writing MAIL
# FROM to reading the final reply to the message.
#
# Prints: "messages N", "seconds S", "per_second R", "p50_ms", "p99_ms",
# "max_ms", "max_at SESSION SEQ SECONDS" (which message was the slowest:
# its session, its number in that session from 0, and when it started, in
# seconds from the start of the run), "first_ms" (the slowest of the
# sessions' first messages), "replies CODE=COUNT ...".  With
# LMTP_LOAD_TRACE=FILE set, every message is also written to FILE as
# "UNIX_TIME SESSION SEQ MS", for matching the slow ones against the
# database's log (checkpoints, autovacuum).
use strict;
use warnings;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);
use File::Temp qw(tempdir);

die "usage: lmtp-load.pl HOST:PORT SESSIONS SECONDS RATE TAG FROM TO FILE...\n" if @ARGV < 8;
my ($addr, $sessions, $seconds, $rate, $tag, $from, $to, @files) = @ARGV;

# Each sample as CRLF lines, dot-stuffed, split around its Message-ID.
my @msgs;
for my $f (@files) {
	open(my $fh, '<:raw', $f) or die "$f: $!\n";
	local $/;
	my $text = <$fh>;
	close($fh);
	$text =~ s/\r?\n/\r\n/g;
	$text .= "\r\n" unless $text =~ /\r\n\z/;
	$text =~ s/^\./../mg;
	$text =~ /^(.*?^Message-ID:[ \t]*<)([^>]*)(>.*)\z/msi or die "$f: no Message-ID\n";
	push @msgs, [$1, $2, $3];
}

my $dir = tempdir(CLEANUP => 1);
my $deadline = time() + $seconds;
my @kids;

sub reply {	# the last line of one (possibly multi-line) reply
	my ($s) = @_;
	while (defined(my $line = $s->getline)) {
		return $line if $line =~ /^\d{3} /;
		die "bad reply: $line" unless $line =~ /^\d{3}-/;
	}
	die "connection closed\n";
}

sub session {
	my ($n) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => $addr, Proto => 'tcp') or die "$addr: $!\n";
	setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
	$s->autoflush(1);
	reply($s) =~ /^220 / or die "no greeting\n";
	print $s "LHLO bench.test\r\n";
	reply($s) =~ /^250 / or die "LHLO refused\n";
	open(my $out, '>', "$dir/$n") or die "$dir/$n: $!\n";
	my ($seq, %codes) = (0);
	my $start = time() + ($rate > 0 ? ($n - 1) / $rate : 0);
	while (time() < $deadline) {
		if ($rate > 0) {
			my $due = $start + $seq * $sessions / $rate;
			my $wait = $due - time();
			Time::HiRes::sleep($wait) if $wait > 0;
			last if time() >= $deadline;
		}
		my $m = $msgs[($seq + $n) % @msgs];
		my $data = $m->[0] . "$tag.$n.$seq." . $m->[1] . $m->[2] . ".\r\n";
		my $t0 = time();
		print $s "MAIL FROM:<$from> SIZE=" . length($data) . "\r\nRCPT TO:<$to>\r\nDATA\r\n";
		my $r1 = reply($s);
		my $r2 = reply($s);
		my $r3 = reply($s);
		die "refused: $r1$r2$r3" unless $r3 =~ /^354 /;
		print $s $data;
		my $r = reply($s);
		my $t1 = time();
		$codes{substr($r, 0, 3)}++;
		printf $out "%.6f %d %d %.3f\n", $t0, $n, $seq, ($t1 - $t0) * 1000;
		$seq++;
	}
	print $s "QUIT\r\n";
	print $out "codes " . join(' ', map { "$_=$codes{$_}" } sort keys %codes) . "\n";
	close($out);
}

my $t0 = time();
for my $n (1 .. $sessions) {
	my $pid = fork();
	die "fork: $!\n" unless defined $pid;
	if ($pid == 0) {
		eval { session($n); 1 } or do { print STDERR "session $n: $@"; exit 1 };
		exit 0;
	}
	push @kids, $pid;
}
my $bad = 0;
for (@kids) { waitpid($_, 0); $bad++ if $? != 0; }
my $elapsed = time() - $t0;

my (@lat, %codes, @rows);
for my $n (1 .. $sessions) {
	open(my $in, '<', "$dir/$n") or next;
	while (<$in>) {
		if (/^codes (.*)/) {
			for (split ' ', $1) { my ($c, $k) = split /=/; $codes{$c} += $k; }
		} else {
			chomp;
			my @f = split ' ';
			push @rows, \@f;
			push @lat, $f[3];
		}
	}
}
if ($ENV{LMTP_LOAD_TRACE}) {
	open(my $tr, '>', $ENV{LMTP_LOAD_TRACE}) or die "$ENV{LMTP_LOAD_TRACE}: $!\n";
	print $tr join(' ', @$_), "\n" for sort { $a->[0] <=> $b->[0] } @rows;
	close($tr);
}
my ($slow) = sort { $b->[3] <=> $a->[3] } @rows;
my $first = 0;
for (@rows) { $first = $_->[3] if $_->[2] == 0 && $_->[3] > $first; }
@lat = sort { $a <=> $b } @lat;
my $pct = sub { @lat ? $lat[int($_[0] * $#lat + 0.5)] : 0 };
printf "messages %d\nseconds %.2f\nper_second %.0f\np50_ms %.2f\np99_ms %.2f\nmax_ms %.2f\n",
    scalar(@lat), $elapsed, @lat / $elapsed, $pct->(0.50), $pct->(0.99), $pct->(1);
printf "max_at %d %d %.2f\n", $slow->[1], $slow->[2], $slow->[0] - $t0 if $slow;
printf "first_ms %.2f\n", $first;
print "replies " . join(' ', map { "$_=$codes{$_}" } sort keys %codes) . "\n";
print "failed_sessions $bad\n";
exit($bad ? 1 : 0);
