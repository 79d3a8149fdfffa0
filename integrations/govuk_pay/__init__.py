"""GOV.UK Pay: the government's card payment service, through its public API."""
