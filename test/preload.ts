/**
 * Runs before every test file. Lent frames are overwritten once their send
 * returns (see LentFrame in src/protocol/byte-frame.ts): a transport that
 * kept one would send `#`s, which no client parses. Servers the tests spawn
 * inherit the setting through the environment.
 */
process.env.EXECBOX_CHECK_LENT_FRAMES = "1";
