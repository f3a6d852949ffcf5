"""The data tier: MongoDB Atlas, the cache, files and CDN, and the app's secret."""
