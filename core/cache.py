"""What the shared cache (Redis in production) raises when it does not answer."""

from redis.exceptions import RedisError

CACHE_ERRORS = (RedisError, OSError)
