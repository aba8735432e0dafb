require('./nonexistent');
