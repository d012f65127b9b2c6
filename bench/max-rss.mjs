// Preloaded (node --import) into a measured command: prints its peak resident memory on exit.
process.on('exit', () => process.stderr.write(`max-rss-kb ${process.resourceUsage().maxRSS}\n`));
