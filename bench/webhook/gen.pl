#!/usr/bin/perl
# bench/webhook/gen.pl SECRET BOT_USER_ID COUNT [FIRST] > FILE — COUNT signed LINE
# webhook requests, one per line as "SIGNATURE<TAB>BODY": each body is one
# text-message event from one of 1,000 residents, with its own
# webhookEventId (numbered from FIRST, default 1), so every request is a new
# row (no de-duplication path).
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256_base64);

my ($secret, $bot, $count, $first) = @ARGV;
die "usage: gen.pl SECRET BOT_USER_ID COUNT [FIRST]\n" unless defined $count;
$first //= 1;
my $ts = time() * 1000;
for my $i ($first .. $first + $count - 1) {
	my $uid = sprintf("U%032x", 0xbe9c0000 + $i % 1000);
	my $id = sprintf("01BENCH%019d", $i);
	my $body = sprintf('{"destination":"%s","events":[{"type":"message","message":{"type":"text",'
		. '"id":"%d","quoteToken":"q%d","text":"こんにちは"},"webhookEventId":"%s",'
		. '"deliveryContext":{"isRedelivery":false},"timestamp":%d,"source":{"type":"user",'
		. '"userId":"%s"},"replyToken":"rt%d","mode":"active"}]}',
		$bot, $i, $i, $id, $ts + $i, $uid, $i);
	my $sig = hmac_sha256_base64($body, $secret);
	$sig .= '=' while length($sig) % 4;
	print "$sig\t$body\n";
}
