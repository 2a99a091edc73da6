import './styles.css';
import './app-shell';
