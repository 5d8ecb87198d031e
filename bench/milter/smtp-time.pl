#!/usr/bin/perl
# smtp-time.pl — times whole SMTP transactions against two Postfix smtpd
# listeners of one instance, one without and one with the milter, side by
# side, for bench/milter/run.  Core Perl only (IO::Socket::INET, Time::HiRes).
#
#   smtp-time.pl PLAIN_HOST:PORT MILTER_HOST:PORT COUNT TAG FROM TO FILE...
#
# Sends COUNT messages to each listener, alternating (plain, milter, plain,
# ...) so that both see the same machine at the same moment; the FILEs go
# round robin, each time with a fresh Message-ID ("<TAG.SEQ.original-id>")
# so that a milter that copies the mail does the whole work every time.
# One message per connection, as most senders that reach a city's mail
# server do: the time is from connect() to reading Postfix's reply to the
# message (it includes the milter's connect, MAIL, RCPT, header, body and
# end-of-message round trips; Postfix talks to the milter at each step).
# QUIT and the close are not timed.
#
# Prints, for "plain" and "milter": "<side>_p50_ms", "<side>_p99_ms",
# "<side>_max_ms", "<side>_replies CODE=COUNT ...", and "messages N".
use strict;
use warnings;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);

die "usage: smtp-time.pl PLAIN_HOST:PORT MILTER_HOST:PORT COUNT TAG FROM TO FILE...\n"
    if @ARGV < 7;
my ($plain, $milter, $count, $tag, $from, $to, @files) = @ARGV;

# Each file as CRLF lines, dot-stuffed, split around its Message-ID.
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

sub reply {	# the last line of one (possibly multi-line) reply
	my ($s) = @_;
	while (defined(my $line = $s->getline)) {
		return $line if $line =~ /^\d{3} /;
		die "bad reply: $line" unless $line =~ /^\d{3}-/;
	}
	die "connection closed\n";
}

# One transaction; its time in ms and the reply code to the message.
sub transaction {
	my ($addr, $data) = @_;
	my $t0 = time();
	my $s = IO::Socket::INET->new(PeerAddr => $addr, Proto => 'tcp') or die "$addr: $!\n";
	setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
	$s->autoflush(1);
	reply($s) =~ /^220 / or die "no greeting\n";
	print $s "EHLO bench.test\r\n";
	reply($s) =~ /^250 / or die "EHLO refused\n";
	# PIPELINING, as Postfix's and most senders' SMTP clients do.
	print $s "MAIL FROM:<$from>\r\nRCPT TO:<$to>\r\nDATA\r\n";
	my ($r1, $r2, $r3) = (reply($s), reply($s), reply($s));
	die "refused: $r1$r2$r3" unless $r3 =~ /^354 /;
	print $s $data;
	my $r = reply($s);
	my $ms = (time() - $t0) * 1000;
	print $s "QUIT\r\n";
	reply($s);
	close($s);
	return ($ms, substr($r, 0, 3));
}

my (%lat, %codes);
for my $seq (0 .. $count - 1) {
	my $m = $msgs[$seq % @msgs];
	for my $side ('plain', 'milter') {
		my $data = $m->[0] . "$tag.$side.$seq." . $m->[1] . $m->[2] . ".\r\n";
		my ($ms, $code) = transaction($side eq 'plain' ? $plain : $milter, $data);
		push @{$lat{$side}}, $ms;
		$codes{$side}{$code}++;
	}
}

print "messages $count\n";
for my $side ('plain', 'milter') {
	my @l = sort { $a <=> $b } @{$lat{$side}};
	my $pct = sub { $l[int($_[0] * $#l + 0.5)] };
	printf "%s_p50_ms %.2f\n%s_p99_ms %.2f\n%s_max_ms %.2f\n", $side, $pct->(0.50), $side,
	    $pct->(0.99), $side, $pct->(1);
	print "${side}_replies " . join(' ', map { "$_=$codes{$side}{$_}" } sort keys %{$codes{$side}}) . "\n";
}
