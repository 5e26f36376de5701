-- Shared by bench/analytics/*.lua: browser user agents and pages, picked
-- at random per request, as real traffic varies them.

agents = {
   "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
   "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
   "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
   "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
   "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
   "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
   "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
   "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
}

-- Storekeep's public pages (internal/web/beacon.CountedPages), the only ones
-- its beacon counts; GoatCounter and the bare handler get the same paths.
pages = { "/", "/products/quillguard", "/products/quillguard-reports", "/pricing", "/privacy", "/cookies", "/support", "/checkout", "/statistics" }

referrers = { "https://news.example.org/x", "https://www.example.com/search", "", "https://forum.example.net/t/42" }

width = { 1280, 1920, 390, 1440, 768 }

function pick(t)
   return t[math.random(#t)]
end
